#pragma once
// Where a fine-tuning run (zo, mezo, fo) can continue from: written at every evaluation step and
// when the run is stopped, read by `frugal run --resume` and the workbench's Resume. It holds what
// the weights alone do not give back: the step to continue at, the data and seed generator's
// state, the dev figures so far and the method's own counters. The weights come back from the
// trajectory (ZO: replayed bit for bit) or from a checkpoint beside this file (FO: trainables
// and optimiser state), so the resumed run's metrics equal the uninterrupted run's, bit for bit.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>


namespace frugal::eval {

// A file a resume point stands on, relative to the run's artifact folder, and the SHA-256 of its
// first LINES lines (0: of the whole file): a ZO run's trajectory rows before the point, an FO
// run's tensors.
struct FileRef {
    std::string path;
    int64_t lines = 0;
    std::string sha256;
};

// The SHA-256 of FILE's first LINES lines (0: all of it); throws naming FILE when it cannot be read
// or has fewer lines.
std::string fileDigest(const std::filesystem::path& file, int64_t lines);
// The reference to FILE (under ARTIFACTDIR) as it is now: its whole content (WHOLE), or its lines
// as they are now counted (a file the run appends to later: the point stands on this prefix).
enum class RefersTo { Whole, LinesNow };
FileRef fileRef(const std::filesystem::path& artifactDir, const std::filesystem::path& file, RefersTo what);

struct ResumePoint {
    int64_t nextStep = 1;          // the first step the resumed run takes
    std::string rng;               // std::mt19937_64's state, as operator<< writes it
    // Forward passes and the dev figures so far (a FineTuneResult's, kept here without torch).
    int64_t forwardPasses = 0;
    double startDevAccuracy = 0, bestDevAccuracy = 0, finalDevAccuracy = 0, finalDevLoss = 0;
    std::map<std::string, double> counters;  // the method's own (lr scale, rollbacks, ...); NaN kept
    std::vector<FileRef> refers;              // what it stands on, checked before it is used

    void setRng(const std::mt19937_64& rng);
    void restoreRng(std::mt19937_64& rng) const;
    double counter(const std::string& key) const;  // fails naming the key when absent
    template <class Result>
    void keep(const Result& r) {
        forwardPasses = r.forwardPasses;
        startDevAccuracy = r.startDevAccuracy;
        bestDevAccuracy = r.bestDevAccuracy;
        finalDevAccuracy = r.finalDevAccuracy;
        finalDevLoss = r.finalDevLoss;
    }
    template <class Result>
    void restore(Result& r) const {
        r.forwardPasses = forwardPasses;
        r.startDevAccuracy = startDevAccuracy;
        r.bestDevAccuracy = bestDevAccuracy;
        r.finalDevAccuracy = finalDevAccuracy;
        r.finalDevLoss = finalDevLoss;
    }
};

// The folder of a run's resume point: ARTIFACTDIR/resume.
std::filesystem::path resumeDir(const std::filesystem::path& artifactDir);
// Whether ARTIFACTDIR holds a resume point.
bool hasResumePoint(const std::filesystem::path& artifactDir);
// Writes DIR/state.json atomically (a kill at any moment leaves the old or the new one whole), with
// a checksum over its content (every field and what it refers to).
void writeResumePoint(const std::filesystem::path& dir, const ResumePoint& point);
// Reads DIR/state.json and proves it before it is used: its checksum matches its content, and
// every file it refers to (under DIR's parent, the artifact folder) has the digest it recorded.
// Fails with one message naming the file and what disagrees: an edited field, a damaged or
// missing file, a folder deleted (WHY says why a run may have no point at all).
ResumePoint readResumePoint(const std::filesystem::path& dir, const std::string& why);
// What readResumePoint would refuse in ARTIFACTDIR's resume point, "" when it proves itself.
std::string resumePointProblem(const std::filesystem::path& artifactDir, const std::string& why);

}  // namespace frugal::eval
