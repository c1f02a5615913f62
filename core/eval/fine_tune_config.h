#pragma once
// Reading the part of a config that every fine-tuning method shares (zo, mezo, fo): the keys of
// the method's own table that define the problem (model, task, objective, steps, lr, ...) and the
// [peft] table; and counting what such a config trains from its model's config.json alone.
// Core-private (toml++).

#include <optional>
#include <string>
#include <vector>

#include "common/config_reader.h"
#include "common/method.h"
#include "eval/fine_tune_problem.h"

namespace frugal::eval {

// Reads the shared keys of M (the method's table) and ROOT's [peft] table into C, and whether to
// save the model; checks the task (a task of one's own needs its files, template and labels).
// RETOLD: what the method says of these keys where it differs from the shared meaning (by full
// key: SharpZO's steps are stage 2's; a landscape reads none of the training keys).
void readFineTuneSpec(const config::Section& m, const toml::table& root, const std::string& source,
                      FineTuneSpec& c, bool& save, const config::KeyDocs& retold = {});

// The `device` key of a method's table: "cpu", "cuda" or "cuda:N", refused at the key otherwise.
// Whether that device exists is checked where the model is loaded (an absent GPU is bad input).
void readDevice(const config::Section& m, const std::string& source, std::string& device);

// Reads ROOT's [live_landscape] table (eval/training_probe.h) into C.LIVELANDSCAPE; a method
// that reads it lists "live_landscape" among its top-level tables. GRADIENTS: the method has
// gradients, so that SAM's value (`sam`) is read.
void readLiveLandscape(const toml::table& root, const std::string& source, FineTuneSpec& c, bool gradients);

// The inputs a fine-tuning run (SOURCE's [TABLE]) will read, checked before it starts: the task
// files are files, the model a model folder, and the batch no larger than the training split
// (read now: small beside a model). Not part of readFineTuneSpec, which the form calls on every
// edit.
void checkFineTuneInputs(const FineTuneSpec& c, const std::string& table, const std::string& source);

// What the fine-tuning config TEXT trains (method zo, mezo or fo; others: nullopt), counted from
// its model's config.json.
std::optional<TrainableSummary> fineTuneTrainables(const std::string& text, const std::string& source,
                                                   const std::vector<std::string>& overrides);

// A finished fine-tuning run's wall time, peak memory, summary line and saved model, to SINK.
void reportFineTune(EventSink& sink, const FineTuneResult& r, const FineTuneSpec& spec,
                    const std::string& passes);

}  // namespace frugal::eval
