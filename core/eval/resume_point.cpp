#include "eval/resume_point.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/format.h"
#include "common/sha256.h"

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
    if (!in) fail("the resume point's rng (the data and seed generator's state) does not parse");
}

std::string fileDigest(const std::filesystem::path& file, int64_t lines) {
    if (lines <= 0) return sha256OfFile(file);
    const std::string text = readFile(file, "file a resume point refers to");
    size_t end = 0;
    for (int64_t i = 0; i < lines; ++i) {
        const size_t newline = text.find('\n', end);
        if (newline == std::string::npos) fail(file.string(), ": has ", i, " lines; the resume point stands on its first ", lines);
        end = newline + 1;
    }
    return sha256Hex(std::string_view(text).substr(0, end));
}

FileRef fileRef(const std::filesystem::path& artifactDir, const std::filesystem::path& file, RefersTo what) {
    int64_t lines = 0;
    if (what == RefersTo::LinesNow) {
        const std::string text = readFile(file, "file a resume point refers to");
        lines = static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
    }
    return {file.lexically_relative(artifactDir).generic_string(), lines, fileDigest(file, lines)};
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
    nlohmann::json refers = nlohmann::json::array();
    for (const auto& r : p.refers) refers.push_back({{"path", r.path}, {"lines", r.lines}, {"sha256", r.sha256}});
    j["refers"] = refers;
    j["checksum"] = sha256Hex(j.dump());  // over every field above, as compact JSON with sorted keys
    std::filesystem::create_directories(dir);
    const auto tmp = dir / "state.json.tmp";
    writeTextFile(tmp, j.dump(1) + "\n");
    std::filesystem::rename(tmp, dir / "state.json");
}

ResumePoint readResumePoint(const std::filesystem::path& dir, const std::string& why) {
    const auto file = dir / "state.json";
    if (!std::filesystem::is_directory(dir))
        failInput("resume: the run's resume folder ", dir.string(), " is missing (deleted?); start the run again "
                  "(the same config and seed give the same run)");
    if (!std::filesystem::exists(file)) failInput("resume: no resume point in ", dir.string(), " (", why, ")");
    const std::string name = file.string();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readFile(file, "resume point"));
    } catch (const nlohmann::json::exception& e) {
        failInput(name, ": not valid JSON (", e.what(), ")");
    }
    // the checksum first: a point edited or damaged anywhere proves nothing
    if (!j.is_object() || !j.contains("checksum") || !j["checksum"].is_string())
        failInput(name, ": has no checksum (written by an earlier version, or edited); it cannot prove itself, "
                  "so the run is not resumed from it; start the run again");
    const std::string recorded = j["checksum"].get<std::string>();
    nlohmann::json content = j;
    content.erase("checksum");
    if (sha256Hex(content.dump()) != recorded)
        failInput(name, ": its content does not match its checksum (a field was edited or the file is damaged); "
                  "the run is not resumed from it");
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
        for (const auto& r : j.at("refers"))
            p.refers.push_back({r.at("path").get<std::string>(), r.at("lines").get<int64_t>(), r.at("sha256").get<std::string>()});
    } catch (const nlohmann::json::exception& e) {
        failInput(name, ": ", e.what(), "; expected next_step, rng, forward_passes, the dev figures, counters and refers");
    }
    if (p.nextStep < 1) failInput(name, ": next_step is ", p.nextStep, "; expected 1 or more");
    std::mt19937_64 probe;
    std::istringstream rngText(p.rng);
    if (!(rngText >> probe)) failInput(name, ": rng (the data and seed generator's state) does not parse");
    // what it stands on, as it was when the point was written
    const auto artifactDir = dir.parent_path();
    for (const auto& r : p.refers) {
        const auto path = artifactDir / r.path;
        if (!std::filesystem::exists(path))
            failInput(name, ": refers to ", path.string(), ", which is missing; the run is not resumed from it");
        std::string now;
        try {
            now = fileDigest(path, r.lines);
        } catch (const Error& e) {
            failInput(name, ": refers to ", path.string(), ": ", e.what());
        }
        if (now != r.sha256)
            failInput(name, ": refers to ", path.string(), r.lines > 0 ? cat(" (its first ", r.lines, " lines)") : std::string(),
                      ", which changed since the point was written (SHA-256 ", now.substr(0, 12), "…, recorded ",
                      r.sha256.substr(0, 12), "…); the run is not resumed from it");
    }
    return p;
}

std::string resumePointProblem(const std::filesystem::path& artifactDir, const std::string& why) {
    try {
        readResumePoint(resumeDir(artifactDir), why);
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

}  // namespace frugal::eval
