#include "common/method.h"

#include <cstdio>

#include "common/error.h"
#include "common/format.h"

namespace frugal {

std::string TrainableSummary::line() const {
    const double share =
        total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0;
    char percent[32];
    std::snprintf(percent, sizeof percent,
                  share >= 1 ? "%.1f%%" : share >= 0.01 ? "%.3f%%" : "%.2g%%", share);
    return cat(withThousands(trainable), " of ", withThousands(total), " parameters trainable (",
               percent, "): ", detail);
}

}  // namespace frugal
