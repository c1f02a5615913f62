#pragma once
// SharpZO's metric keys (search/sharpzo.cpp emits them; sharpZoView draws them).

namespace frugal::search::metrics {

inline constexpr const char* kStage = "sharpzo/stage";  // 1 during stage 1 (CMA-ES)
inline constexpr const char* kBestFitness = "cma/best_fitness";
inline constexpr const char* kMeanFitness = "cma/mean_fitness";
inline constexpr const char* kSigma = "cma/sigma";
inline constexpr const char* kShiftNorm = "cma/shift_norm";
inline constexpr const char* kAskTellSeconds = "cma/ask_tell_seconds";
inline constexpr const char* kCandidateSeconds = "cma/candidate_seconds";
inline constexpr const char* kCgeSeconds = "cma/cge_seconds";
inline constexpr const char* kNanFitness = "cma/nan_fitness";
inline constexpr const char* kOverheadRatio = "cma/overhead_ratio";
inline constexpr const char* kForwardsAtEval = "train/forwards_at_eval";
inline constexpr const char* kPointsPerForward = "sharpzo/points_per_forward";
inline constexpr const char* kForwardsToTarget = "sharpzo/forwards_to_target";
inline constexpr const char* kStage1DevAccuracy = "sharpzo/stage1_dev_accuracy";
inline constexpr const char* kStage1Forwards = "sharpzo/stage1_forwards";
inline constexpr const char* kMaskDensity = "sharpzo/mask_density";
inline constexpr const char* kWNorm = "sharpzo/w_norm";
inline constexpr const char* kPromptShiftNorm = "sharpzo/prompt_shift_norm";
inline constexpr const char* kStageShiftNorm = "sharpzo/shift_norm";
inline constexpr const char* kW = "sharpzo/w";  // a vector series: the shift found by stage 1

}  // namespace frugal::search::metrics
