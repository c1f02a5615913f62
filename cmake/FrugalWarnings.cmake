# One place for the project's warning flags; Torch and Qt are imported targets, so their headers
# are system headers and stay quiet.
function(frugal_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
    if(FRUGAL_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
