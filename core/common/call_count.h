#pragma once
// Counting how often a named place runs on one thread, for tests that bound it: how many times
// the workbench's form reads a config per edit, whether a task file is read on the GUI thread.
// A CallCount counts while it lives, on the thread that made it; with none installed, hit() does
// nothing but look up one thread-local pointer.

#include <string>
#include <utility>

namespace frugal {

class CallCount {
public:
    explicit CallCount(std::string place) : m_place(std::move(place)), m_previous(current()) { current() = this; }
    ~CallCount() { current() = m_previous; }
    CallCount(const CallCount&) = delete;
    CallCount& operator=(const CallCount&) = delete;

    int count() const { return m_count; }

    // PLACE ran on this thread: every CallCount of this thread that counts it goes up by one.
    static void hit(const char* place) {
        for (CallCount* c = current(); c; c = c->m_previous)
            if (c->m_place == place) ++c->m_count;
    }

private:
    static CallCount*& current() {
        thread_local CallCount* active = nullptr;
        return active;
    }

    std::string m_place;
    CallCount* m_previous;
    int m_count = 0;
};

}  // namespace frugal
