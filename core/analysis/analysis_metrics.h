#pragma once
// The analysis methods' own metric keys: the probe method's, the landscape's and the live probe's
// (the surface and sharpness keys that other layers read are in common/metric_keys.h).

namespace frugal::analysis::metrics {

inline constexpr const char* kProbeAccuracy = "probe/accuracy";
inline constexpr const char* kProbeAccuracyNorm = "probe/accuracy_norm";
inline constexpr const char* kProbeAccuracyCalibrated = "probe/accuracy_calibrated";
inline constexpr const char* kProbeGoldLogprob = "probe/gold_logprob";

inline constexpr const char* kD1Norm = "landscape/d1_norm";
inline constexpr const char* kD2Norm = "landscape/d2_norm";
inline constexpr const char* kBatchLoss = "landscape/batch_loss";
inline constexpr const char* kLandscapeSeconds = "landscape/seconds";
inline constexpr const char* kLandscapeForwards = "landscape/forwards";
inline constexpr const char* kForwardSeconds = "landscape/forward_seconds";
inline constexpr const char* kOverheadRatio = "landscape/overhead_ratio";
inline constexpr const char* kProbeSeconds = "landscape/probe_seconds";
inline constexpr const char* kProbeForwards = "landscape/probe_forwards";

}  // namespace frugal::analysis::metrics
