"""What the Hugging Face oracle scripts (check_transformers.py, make_peft_lora.py) share: a quiet,
offline transformers, and named checks run one by one into "PASS name: detail" / "FAIL name:
error" lines and a closing "N passed, M failed"."""
import os
import warnings


def quiet_offline():
    """No hub access, no progress bars, no deprecation chatter from transformers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore", category=FutureWarning)


def run_checks(checks):
    """CHECKS: (name, function returning a detail string); returns the exit code (1 on a failure)."""
    passed = failed = 0
    for name, fn in checks:
        try:
            print(f"PASS {name}: {fn()}")
            passed += 1
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
