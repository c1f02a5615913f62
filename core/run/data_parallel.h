#pragma once
// One process of a data-parallel run, as the command line sees it (dist/world.h does the work):
// the world read from the environment and joined, the same config, program and source on every
// process (refused otherwise, naming the process), the metadata process 0 stores, and the body
// of a process other than 0, which follows process 0 and stores nothing. No torch in this header.

#include <memory>
#include <string>

#include "common/method.h"
#include "store/store.h"

namespace frugal::run {

class DataParallel {
public:
    // Whether this process's environment names a world of more than one process (RANK and
    // WORLD_SIZE, Open MPI's or Slurm's variables); throws on malformed variables.
    static bool requested();
    // Joins that world for the PREPARED run (zo, mezo and landscape; others refused) and checks that every
    // process runs the same resolved config, executable and source commit.
    static std::unique_ptr<DataParallel> join(const PreparedRun& prepared, const std::string& gitCommit,
                                              bool gitDirty);
    ~DataParallel();

    int rank() const;
    int size() const;
    // Process 0's run: world_size, backend, launcher and rendezvous in its hardware metadata;
    // dist.world_size among its params.
    void annotate(store::NewRun& run) const;
    // A process other than 0: runs BODY with a sink that keeps nothing but warnings and errors
    // (printed with the rank); returns the exit code (0, 1 failed, 130/143 stopped).
    int follow(const MethodBody& body, StopToken& stop);
    // Process 0's body: BODY run with this world in its context.
    MethodBody lead(MethodBody body) const;
    // Process 0 after its run: posts a failure for the others to name, or waits for them to end;
    // returns what went wrong with another process meanwhile ("" when nothing).
    std::string finish(bool failed, const std::string& error);

private:
    DataParallel();
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace frugal::run
