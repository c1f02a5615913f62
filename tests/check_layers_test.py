#!/usr/bin/env python3
"""Self-test of scripts/check-layers: builds small fake trees in a temporary folder and runs the
script on them with --root. Standard library only; exit status non-zero on a failure.

usage: /usr/bin/python3 tests/check_layers_test.py [-v]
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPT = os.path.join(REPO, "scripts", "check-layers")

# A small tree that follows the layer table: same-folder includes, includes through the core/
# and ui/ include roots, LibTorch kept in core/, Qt kept in ui/, sqlite3 kept in core/store/,
# commented-out includes that would break the rules, and `#  include` spacing.
CLEAN = {
    "core/pch.h": '#pragma once\n#include <torch/torch.h>\n#include <string>\n',
    "core/common/error.h": '#pragma once\n#include <stdexcept>\n',
    "core/model/transformer.h": '#pragma once\n#include <torch/types.h>\n#include "common/error.h"\n',
    "core/model/tokenizer.h": '#pragma once\n#include <string>\n#include "common/error.h"\n',
    "core/zo/perturb.h": '#pragma once\n#include <torch/types.h>\n#include "model/transformer.h"\n',
    "core/zo/engine.h": '#pragma once\n#  include "perturb.h"\n#include "cuda/kernels.cuh"\n',
    "core/zo/engine.cpp": textwrap.dedent('''\
        #include "zo/engine.h"
        // #include "run/runner.h"
        /* #include <QString>
           #include "run/runner.h" */
        static const char* url = "http://example.org/*";
        static const long big = 1'000'000;
        #include <vector>  // #include <QString>
        '''),
    "core/zo/kernels.cu": '#include "engine.h"\n',
    "core/cuda/kernels.cuh": '#pragma once\n#include "common/error.h"\n',
    "core/store/store.h": '#pragma once\n#include <string>\n',
    "core/store/store.cpp": '#include "store.h"\n#include <sqlite3.h>\n',
    "core/run/runner.h": '#pragma once\n#include "common/error.h"\n#include "store/store.h"\n',
    "core/run/runner.cpp": '#include "run/runner.h"\n#include "zo/engine.h"\n#include "model/tokenizer.h"\n',
    "ui/metric_chart.h": '#pragma once\n#include <QWidget>\n#include <QtCore/QObject>\n',
    "ui/workbench.h": '#pragma once\n#include "metric_chart.h"\n#include "run/runner.h"\n',
    "ui/workbench.cpp": '#include "workbench.h"\n#include "store/store.h"\n#include <QString>\n',
    "app/cli_args.h": '#pragma once\n#include <string>\n',
    "app/main.cpp": '#include "cli_args.h"\n#include "workbench.h"\n#include "common/error.h"\n',
}
CLEAN_FILES = len(CLEAN)
CLEAN_INCLUDES = 34


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="check-layers-")
        self.root = self.tmp.name
        self.write(CLEAN)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, files):
        for rel, text in files.items():
            path = os.path.join(self.root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    def run_script(self, *args):
        p = subprocess.run([sys.executable, SCRIPT, "--root", self.root] + list(args),
                           capture_output=True, text=True)
        self.assertNotIn("Traceback", p.stderr)
        return p.returncode, p.stdout + p.stderr

    def assert_fails(self, *expected):
        rc, out = self.run_script()
        self.assertEqual(rc, 1, out)
        for line in expected:
            self.assertIn(line, out)
        return out

    def test_clean_tree_passes(self):
        rc, out = self.run_script()
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip(), "check-layers: %d includes in %d files follow the layer table"
                         % (CLEAN_INCLUDES, CLEAN_FILES))

    def test_upward_include_fails(self):
        self.write({"core/zo/a.cpp": '#include "zo/engine.h"\n\n#include "run/runner.h"\n'})
        out = self.assert_fails(
            'core/zo/a.cpp:3: #include "run/runner.h": zo/ may not include run/ '
            '(zo may include: dist, eval, peft, data, model, common, cuda)',
            "check-layers: 1 violation of the layer table")
        self.assertNotIn("a.cpp:1:", out)

    def test_include_after_string_with_slashes_is_read(self):
        self.write({"core/common/a.cpp": 'const char* s = "a//b/*c";\n#include "model/tokenizer.h"\n'})
        self.assert_fails('core/common/a.cpp:2: #include "model/tokenizer.h": common/ may not '
                          'include model/ (common may include no other folder)')

    def test_core_includes_qt_fails(self):
        self.write({"core/model/names.h": '#include <QString>\n#include <QtCore/QObject>\n',
                    "core/pch.h": '#include <QList>\n'})
        self.assert_fails('core/model/names.h:1: #include <QString>: core/ includes Qt',
                          'core/model/names.h:2: #include <QtCore/QObject>: core/ includes Qt',
                          'core/pch.h:1: #include <QList>: core/ includes Qt',
                          "check-layers: 3 violations")

    def test_ui_through_core_header_to_torch_fails_naming_the_chain(self):
        self.write({"core/run/runner.h": '#pragma once\n#include "common/error.h"\n'
                                         '#include "zo/engine.h"\n',
                    "ui/live_view.cpp": '#include <QWidget>\n#include "run/runner.h"\n'})
        out = self.assert_fails(
            'ui/live_view.cpp:2: #include "run/runner.h": includes core/run/runner.h, which brings '
            'in LibTorch via core/run/runner.h:3 "zo/engine.h" -> core/zo/engine.h:2 "perturb.h" '
            '-> core/zo/perturb.h:2 <torch/types.h> (ui/ never includes LibTorch)')
        # every include from ui/ or app/ of a core/ header that brings LibTorch in is named
        # (app/main.cpp includes ui/workbench.h: the break is named once, at workbench.h)
        self.assertIn('ui/workbench.h:3: #include "run/runner.h": includes core/run/runner.h', out)

    def test_ui_and_app_include_torch_directly_fails(self):
        self.write({"ui/tensor_view.cpp": '#include <torch/torch.h>\n',
                    "app/tool.cpp": '#include <ATen/ATen.h>\n#include <c10/util/Half.h>\n'})
        self.assert_fails('ui/tensor_view.cpp:1: #include <torch/torch.h>: ui/ includes LibTorch',
                          'app/tool.cpp:1: #include <ATen/ATen.h>: app/ includes LibTorch',
                          'app/tool.cpp:2: #include <c10/util/Half.h>: app/ includes LibTorch',
                          "check-layers: 3 violations")

    def test_app_includes_its_own_cli_args(self):
        # the clean tree has it; here it is the only new include, and a ui/ file including
        # app/'s header is refused (ui/ may not include app/)
        self.write({"app/commands.cpp": '#include "cli_args.h"\n#include "run/runner.h"\n'})
        rc, out = self.run_script()
        self.assertEqual(rc, 0, out)
        self.write({"ui/runs_view.cpp": '#include "cli_args.h"\n'})
        self.assert_fails('ui/runs_view.cpp:1: #include "cli_args.h": ui/ may not include app/ '
                          '(ui may include: run, store, common)')

    def test_sqlite_outside_store_fails(self):
        self.write({"core/run/provenance.cpp": '#include "run/runner.h"\n#include <sqlite3.h>\n'})
        self.assert_fails('core/run/provenance.cpp:2: #include <sqlite3.h>: <sqlite3.h> outside '
                          'core/store/', "check-layers: 1 violation")

    def test_missing_include_fails(self):
        self.write({"core/zo/a.cpp": '#include "zo/nowhere.h"\n'})
        self.assert_fails('core/zo/a.cpp:1: #include "zo/nowhere.h": does not exist')

    def test_unknown_folder_fails(self):
        self.write({"core/train/finetune.cpp": '#include "common/error.h"\n',
                    "app/main.cpp": CLEAN["app/main.cpp"] + '#include "train/finetune.h"\n',
                    "core/train/finetune.h": '#pragma once\n'})
        self.assert_fails('core/train/ is not in the layer table (2 files',
                          'app/main.cpp:4: #include "train/finetune.h": app/ may not include '
                          'train/ (app may include: ui, run, store, common)')

    def test_print_graph(self):
        self.write({"core/zo/a.cpp": '#include "run/runner.h"\n'})
        rc, out = self.run_script("--print-graph")
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertIn("common: -", lines)
        self.assertIn("zo: model 1, cuda 1, run 1, [LibTorch] 1", lines)
        self.assertIn("app: common 1, ui 1", lines)
        self.assertIn("ui: store 1, run 1, [Qt] 3", lines)

    def test_no_core_folder_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as empty:
            p = subprocess.run([sys.executable, SCRIPT, "--root", empty],
                               capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)

    def test_real_tree_runs(self):
        # the real tree may still break the table (exit 1); the script must read it all without
        # crashing and end with its count line
        p = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertRegex((p.stdout + p.stderr).strip().splitlines()[-1], r"^check-layers: \d+ ")


if __name__ == "__main__":
    unittest.main()
