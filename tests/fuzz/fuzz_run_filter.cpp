// libFuzzer target: arbitrary bytes as a `frugal list --filter` expression. Parsing must either
// give terms or throw frugal::Error; terms that parse are checked against the keys of a small
// database and matched against its runs, which must also only ever succeed or throw
// frugal::Error. The bytes read as a double must print (exactNumberText) to text that reads back
// to the same bits. Seeds: tests/fuzz/corpus/run_filter/.

#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "store/run_filter.h"
#include "store/store.h"

namespace {

// Two runs with params, tags and metrics (NaN among them), in a database of this process's own.
frugal::store::Store& database() {
    static std::unique_ptr<frugal::store::Store> db = [] {
        const auto file = std::filesystem::temp_directory_path() /
                          ("frugal-fuzz-filter-" + std::to_string(::getpid()) + ".db");
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix);
        auto s = std::make_unique<frugal::store::Store>(file);
        for (int i = 0; i < 2; ++i) {
            frugal::store::NewRun r;
            r.name = i == 0 ? "mezo lr=1e-6" : "wanda 2:4";
            r.method = i == 0 ? "mezo" : "prune";
            r.params = {{"zo.lr", i == 0 ? "1e-06" : "0"}, {"prune.sparsity", "\"2:4\""}, {"model", "frugal-tiny"}};
            const int64_t id = s->createRun(r);
            s->addTag(id, i == 0 ? "baseline" : "pruned");
            s->logMetric(id, "train/loss", 1, i == 0 ? 0.5 : std::nan(""));
            s->logMetric(id, "eval/perplexity", 1, i == 0 ? INFINITY : 12.5);
            s->setStatus(id, frugal::store::RunStatus::Finished);
        }
        s->flush();
        return s;
    }();
    return *db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size >= sizeof(double)) {
        double v;
        std::memcpy(&v, data, sizeof v);
        const std::string text = frugal::store::exactNumberText(v);
        const double back = std::strtod(text.c_str(), nullptr);
        if (std::isnan(v) ? !std::isnan(back) : std::memcmp(&v, &back, sizeof v) != 0) std::abort();
    }
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto& db = database();
    try {
        const auto terms = frugal::store::parseFilter(text);
        const auto runs = db.runs();
        frugal::store::checkFilterKeys(db, runs, terms);
        for (const auto& r : runs) (void)frugal::store::runMatches(db, r, terms);
    } catch (const frugal::Error&) {
    }
    return 0;
}
