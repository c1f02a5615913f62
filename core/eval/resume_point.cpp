#include "eval/resume_point.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"

namespace frugal::eval {

namespace {

// JSON has no NaN: a non-finite double is written as a string ("nan", "inf", "-inf").
nlohmann::json number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

double numberFrom(const nlohmann::json& j, const std::string& key, const std::string& file) {
    if (j.is_number()) return j.get<double>();
    if (j.is_string()) {
        const auto s = j.get<std::string>();
        if (s == "nan") return NAN;
        if (s == "inf") return INFINITY;
        if (s == "-inf") return -INFINITY;
    }
    fail(file, ": ", key, " is ", j.dump(), "; expected a number");
}

}  // namespace

void ResumePoint::setRng(const std::mt19937_64& generator) {
    std::ostringstream out;
    out << generator;
    rng = out.str();
}

void ResumePoint::restoreRng(std::mt19937_64& generator) const {
    std::istringstream in(rng);
    in >> generator;
    if (!in) fail("the resume point's generator state does not parse");
}

double ResumePoint::counter(const std::string& key) const {
    const auto it = counters.find(key);
    if (it == counters.end()) fail("the resume point has no counter '", key, "'");
    return it->second;
}

std::filesystem::path resumeDir(const std::filesystem::path& artifactDir) { return artifactDir / "resume"; }

bool hasResumePoint(const std::filesystem::path& artifactDir) {
    std::error_code ec;
    return std::filesystem::is_regular_file(resumeDir(artifactDir) / "state.json", ec);
}

void writeResumePoint(const std::filesystem::path& dir, const ResumePoint& p) {
    nlohmann::json j;
    j["next_step"] = p.nextStep;
    j["rng"] = p.rng;
    j["forward_passes"] = p.forwardPasses;
    j["start_dev_accuracy"] = number(p.startDevAccuracy);
    j["best_dev_accuracy"] = number(p.bestDevAccuracy);
    j["final_dev_accuracy"] = number(p.finalDevAccuracy);
    j["final_dev_loss"] = number(p.finalDevLoss);
    nlohmann::json counters = nlohmann::json::object();
    for (const auto& [k, v] : p.counters) counters[k] = number(v);
    j["counters"] = counters;
    std::filesystem::create_directories(dir);
    const auto tmp = dir / "state.json.tmp";
    writeTextFile(tmp, j.dump(1) + "\n");
    std::filesystem::rename(tmp, dir / "state.json");
}

ResumePoint readResumePoint(const std::filesystem::path& dir, const std::string& why) {
    const auto file = dir / "state.json";
    if (!std::filesystem::exists(file)) fail("resume: no resume point in ", dir.string(), " (", why, ")");
    const std::string name = file.string();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readFile(file, "resume point"));
    } catch (const nlohmann::json::exception& e) {
        fail(name, ": not valid JSON (", e.what(), ")");
    }
    ResumePoint p;
    try {
        p.nextStep = j.at("next_step").get<int64_t>();
        p.rng = j.at("rng").get<std::string>();
        p.forwardPasses = j.at("forward_passes").get<int64_t>();
        p.startDevAccuracy = numberFrom(j.at("start_dev_accuracy"), "start_dev_accuracy", name);
        p.bestDevAccuracy = numberFrom(j.at("best_dev_accuracy"), "best_dev_accuracy", name);
        p.finalDevAccuracy = numberFrom(j.at("final_dev_accuracy"), "final_dev_accuracy", name);
        p.finalDevLoss = numberFrom(j.at("final_dev_loss"), "final_dev_loss", name);
        for (const auto& [k, v] : j.at("counters").items()) p.counters[k] = numberFrom(v, "counters." + k, name);
    } catch (const nlohmann::json::exception& e) {
        fail(name, ": ", e.what(), "; expected next_step, rng, forward_passes, the dev figures and counters");
    }
    if (p.nextStep < 1) fail(name, ": next_step is ", p.nextStep, "; expected 1 or more");
    return p;
}

}  // namespace frugal::eval
