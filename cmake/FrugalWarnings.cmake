# Per-target build settings of the project, in one place.

# Warning flags. Torch and Qt are imported targets, so their headers are system headers and stay
# quiet.
function(frugal_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
    if(FRUGAL_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

# What every project target gets: the warnings, plus the instrumentation of the asan and fuzz
# presets (UB aborts instead of printing, so a test or fuzz run fails on it).
function(frugal_target_defaults target)
    frugal_set_warnings(${target})
    if(FRUGAL_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                               -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
    if(FRUGAL_FUZZ)
        # coverage instrumentation everywhere; the fuzz targets add libFuzzer's main
        target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                               -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
endfunction()
