#pragma once
// Data-parallel processes on LibTorch's own c10d: a TCPStore rendezvous the torchrun way (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; Open MPI's and Slurm's variables mapped) and a
// process group (Gloo for CPU tensors; NCCL for CUDA tensors, where the LibTorch built against has
// it: WorldSpec::device). Every collective goes through a counting wrapper, so the bytes each rank hands to the
// group per step are measured, not assumed.
//
// Failures: every rank beats a heartbeat into the store and posts its own error there before it
// exits. A collective that fails or times out (the group's timeout) is diagnosed from those: the
// message names the rank that failed (its error), stopped answering (killed, crashed, stopped) or
// is alive but stuck. No torch in this header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace frugal::dist {

struct WorldSpec {
    int rank = 0, size = 1, localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    double timeoutSeconds = 300;  // rendezvous, store reads and every collective
    std::string source;           // the variables it was read from, for messages
    // The device whose tensors the collectives carry: "cpu" (Gloo) or "cuda" / "cuda:N" (NCCL,
    // on that GPU; "cuda" is the rank's only visible GPU, else its LOCAL_RANK-th). The run's own
    // device key (run/data_parallel.cpp).
    std::string device = "cpu";
    // Lines on the rendezvous while it waits ("rank 0 of 4: waiting for ranks 1, 3: 12 s of
    // 300 s"); none when empty.
    std::function<void(const std::string&)> say;
    bool portFromEnvironment = true;  // MASTER_PORT was set (else the default, named in messages)
};

// The process-group backend for DEVICE: "gloo" for "cpu", "nccl" for "cuda" and "cuda:N". Throws
// naming the device when it is neither, or when this LibTorch was built without NCCL.
std::string backendFor(const std::string& device);

// The world this process belongs to, from its environment: torchrun's RANK and WORLD_SIZE (with
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT); else Open MPI's OMPI_COMM_WORLD_RANK / _SIZE /
// _LOCAL_RANK; else Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (srun). MASTER_ADDR
// defaults to 127.0.0.1 and MASTER_PORT to 29500; FRUGAL_DIST_TIMEOUT (seconds) sets the timeout.
// nullopt when none is set; a value that is not a number or a rank outside the world is refused,
// naming the variable. GETENV is a parameter so that tests give their own environment.
using GetEnv = std::function<const char*(const char*)>;
std::optional<WorldSpec> specFromEnvironment(const GetEnv& getenv);
std::optional<WorldSpec> specFromEnvironment();

// A collective that failed because another rank did: the message names it.
class PeerFailure : public Error {
public:
    using Error::Error;
};

class World {
public:
    // Rendezvous: rank 0 hosts the store at MASTER_ADDR:MASTER_PORT and waits (up to the timeout)
    // for every rank; then the process group. Throws naming the address and the ranks missing.
    static std::unique_ptr<World> join(const WorldSpec& spec);
    ~World();
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    int rank() const;
    int size() const;
    const WorldSpec& spec() const;
    std::string backend() const;  // "gloo" or "nccl" (backendFor(spec.device))

    // Every rank's VALUES (the same count on each), concatenated in rank order.
    std::vector<double> allgather(const std::vector<double>& values);
    // Σ_r value_r·weight_r / Σ_r weight_r, summed in rank order on every rank, so that every rank
    // gets the same bits whatever the backend's reduction order.
    double weightedMean(double value, double weight);
    // Whether any rank passed true.
    bool any(bool mine);
    void barrier();

    // Every rank's TEXT for WHAT through the store; when one differs from rank 0's, every rank
    // throws the same message naming the first such rank, WHAT and both texts.
    void agree(const std::string& what, const std::string& text);

    // Posts this rank's error for the others to name (before it exits on that error). Rank 0,
    // which hosts the store, then closes its connections and stays until the others have ended
    // or stopped answering (up to the timeout), so that they read the error, not a lost store.
    void reportFailure(const std::string& message);
    // The normal end: rank 0 waits (up to the timeout) until every rank has finished, so that the
    // store it hosts outlives their last reads; a rank that failed or stopped answering meanwhile
    // ends the wait with PeerFailure naming it.
    void finish();

    // What this rank has handed to the process group so far: payload bytes (an all-gather sends
    // each rank's payload to the N−1 others), calls, and seconds spent inside them (waiting for
    // the slowest rank included).
    struct Traffic {
        int64_t bytes = 0, calls = 0;
        double seconds = 0;
    };
    Traffic traffic() const;

private:
    World();
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace frugal::dist
