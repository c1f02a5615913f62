#pragma once
// Runs beyond one config: a sweep's grid of overrides run N at a time on worker threads, and a
// stored run resumed from its last checkpoint. The CLI and the workbench call these; they print
// nothing themselves (what each run reports goes to its Observer). No torch in this header.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "run/runner.h"
#include "store/store.h"

namespace frugal::run {

// "lr=1e-6,1e-7" -> {"lr=1e-6", "lr=1e-7"}; commas inside [] {} or quotes do not split.
std::vector<std::string> sweepValues(const std::string& override);
// Every combination of AXES ("KEY=V1,V2,..."), the first axis slowest; an axis that is not an
// override is refused naming it.
std::vector<std::vector<std::string>> sweepGrid(const std::vector<std::string>& axes);

// The name of combination COMBO of GRID (sweepGrid's): what differs between the grid's runs,
// "lr=3e-4 steps=10" (each key by its last part, the whole key where two varying keys share it),
// after PREFIX when given; the axes with one value are the same for every run and are left out
// (the run's experiment is its config, and its params hold every key). A grid of one: PREFIX, or
// the overrides themselves.
std::string sweepName(const std::vector<std::string>& combo, const std::vector<std::vector<std::string>>& grid,
                      const std::string& prefix);

struct SweepJob {
    store::NewRun spec;
    MethodBody body;
};
// Runs JOBS in STORE, PARALLEL at a time, in order, until all are done or STOP is requested (the
// rest are not started). OBSERVERFOR(i) is job i's observer (nullptr: none; it must outlive the
// job); ONDONE(i, outcome) is called on the worker thread as each ends. Outcomes in job order
// (RunStatus::Queued for one never started).
std::vector<RunOutcome> runSweep(store::Store& store, const std::vector<SweepJob>& jobs, int64_t parallel,
                                 StopToken& stop, const std::function<Observer*(size_t)>& observerFor,
                                 const std::function<void(size_t, const RunOutcome&)>& onDone);

// Why stored run INFO (in the database at STOREPATH) cannot be resumed, or "" when it can: an
// ended run (cancelled, interrupted, failed) of a method that keeps a resume point (zo, mezo, fo:
// eval/resume_point.h; pretrain: its checkpoints) that wrote one before it ended.
std::string resumeRefusal(const std::filesystem::path& storePath, const store::RunInfo& info);

// Continues stored run RUNID from its last checkpoint with its own resolved config, in its own
// artifact folder; the run is marked running again and says so in its log.
RunOutcome resumeStoredRun(store::Store& store, int64_t runId, StopToken& stop, Observer* observer);

}  // namespace frugal::run
