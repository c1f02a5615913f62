#pragma once
// The metric keys that several methods emit or that the workbench reads for every run: one name
// each. A method's own keys live in its folder's <method>_metrics.h; its view (method_view.h)
// names what to draw. See docs/ARCHITECTURE.md, "The method contract".

namespace frugal::metrics {

// training, all fine-tuning and pre-training methods
inline constexpr const char* kTrainLoss = "train/loss";
inline constexpr const char* kTrainLr = "train/lr";
inline constexpr const char* kTrainGradNorm = "train/grad_norm";
inline constexpr const char* kTrainForwards = "train/forwards";  // forwards spent (SharpZO)
inline constexpr const char* kTokensPerSecond = "train/tokens_per_s";  // pre-training
inline constexpr const char* kForwardPasses = "zo/forward_passes";  // the forward-pass x axis
inline constexpr const char* kTrainable = "params/trainable";

// evaluation during and after fine-tuning
inline constexpr const char* kDevLoss = "dev/loss";
inline constexpr const char* kDevAccuracy = "dev/accuracy";
inline constexpr const char* kDevAccuracyCalibrated = "dev/accuracy_calibrated";
inline constexpr const char* kDevPerplexity = "dev/perplexity";
inline constexpr const char* kTestLoss = "test/loss";
inline constexpr const char* kTestAccuracy = "test/accuracy";
inline constexpr const char* kTestAccuracyCalibrated = "test/accuracy_calibrated";
inline constexpr const char* kEvalPerplexity = "eval/perplexity";  // eval and pre-training
inline constexpr const char* kHeldOutMean = "held_out/mean";        // pre-training
inline constexpr const char* kHeldOutPerplexity = "held_out/perplexity";

// the system: what the runner samples and the memory estimate and guard record
inline constexpr const char* kRssMb = "sys/rss_mb";
inline constexpr const char* kPeakRssMb = "sys/peak_rss_mb";
inline constexpr const char* kStepsPerSecond = "sys/steps_per_s";
inline constexpr const char* kSeconds = "sys/seconds";
inline constexpr const char* kEstimateMb = "mem/estimate_mb";
// A resumed run's attempt: logged at the step it resumed from (value: that step); the workbench
// marks it on the run's charts
inline constexpr const char* kResumedAt = "run/resumed_at";
inline constexpr const char* kMemPeakRssMb = "mem/peak_rss_mb";
// on a CUDA device: the caching allocator's peak and the guard's estimate on the device
inline constexpr const char* kMemGpuPeakMb = "mem/gpu_peak_mb";
inline constexpr const char* kGpuEstimateMb = "mem/gpu_estimate_mb";
inline constexpr const char* kPeakOverEstimate = "mem/peak_over_estimate";

// the loss landscape's vector series (the landscape method and a fine-tuning run's live probe;
// the compare view and exports draw them for any run that has them)
inline constexpr const char* kLandscapeAxis = "landscape/axis";
inline constexpr const char* kSlice1d = "landscape/slice1d";
inline constexpr const char* kSlice2d = "landscape/slice2d";
inline constexpr const char* kLandscapeCentreLoss = "landscape/centre_loss";
inline constexpr const char* kLandscapeMinLoss = "landscape/min_loss";
inline constexpr const char* kLandscapeMaxLoss = "landscape/max_loss";
inline constexpr const char* kLandscapeNonFinite = "landscape/non_finite_points";

// forward-only sharpness (zo/sharpness.h), read by SharpZO, the landscape and the live probe
inline constexpr const char* kHutchinsonTrace = "sharpness/hutchinson_trace";
inline constexpr const char* kHutchinsonStderr = "sharpness/hutchinson_stderr";
inline constexpr const char* kEpsBall = "sharpness/eps_ball";
inline constexpr const char* kSam = "sharpness/sam";

}  // namespace frugal::metrics
