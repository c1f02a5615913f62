#pragma once
// The run filter of `frugal list --filter` and the workbench's runs view: "method=mezo and
// train.lr<1e-3". Terms KEY OP VALUE joined by " and "; OP one of = != < <= > >= ~ (contains);
// KEY status, method, name, experiment, tag, id, a parameter (full key or unique last part) or a
// metric (its latest value). = != ~ compare text (numbers as numbers); < <= > >= compare numbers
// only, so their value must be one. No torch in this header.

#include <string>
#include <vector>

#include "store/store.h"

namespace frugal::store {

struct FilterTerm {
    std::string key, op, value;
};

// Throws naming the term that is not KEY OP VALUE, or that orders by a value that is no number.
std::vector<FilterTerm> parseFilter(const std::string& text);
// Throws for a term whose key no run of DB has (nor status, method, name, experiment, tag, id),
// naming the nearest keys: a misspelt key is an error, not an empty list. RUNS (the runs about
// to be filtered) empty: nothing to check.
void checkFilterKeys(const Store& db, const std::vector<RunInfo>& runs, const std::vector<FilterTerm>& terms);
// Whether run R of DB satisfies every term; a run without a term's key does not match.
bool runMatches(const Store& db, const RunInfo& r, const std::vector<FilterTerm>& terms);
// A metric value as the run list prints it: %.6g, "nan", "inf", "-inf".
std::string numberText(double v);
// V as the shortest text that reads back (strtod) to the same double, every bit: exports.
// "nan", "inf", "-inf" for the non-finite.
std::string exactNumberText(double v);

}  // namespace frugal::store
