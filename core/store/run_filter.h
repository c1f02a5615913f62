#pragma once
// The run filter of `frugal list --filter` and the workbench's runs view: "method=mezo and
// train.lr<1e-3". Terms KEY OP VALUE joined by " and "; OP one of = != < <= > >= ~ (contains);
// KEY status, method, name, experiment, tag, id, a parameter (full key or unique last part) or a
// metric (its latest value). Numbers compare as numbers. No torch in this header.

#include <string>
#include <vector>

#include "store/store.h"

namespace frugal::store {

struct FilterTerm {
    std::string key, op, value;
};

// Throws naming the term that is not KEY OP VALUE.
std::vector<FilterTerm> parseFilter(const std::string& text);
// Whether run R of DB satisfies every term; a run without a term's key does not match.
bool runMatches(const Store& db, const RunInfo& r, const std::vector<FilterTerm>& terms);
// A metric value as the run list prints it: %.6g, "nan", "inf", "-inf".
std::string numberText(double v);

}  // namespace frugal::store
