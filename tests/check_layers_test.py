#!/usr/bin/env python3
"""Self-test of scripts/check-layers: builds small fake trees in a temporary folder and runs the
script on them with --root. Each fake tree gets a copy of the repository's docs/ARCHITECTURE.md,
whose layer table the script reads (some tests edit that copy, or pass --layers). Standard library
only; exit status non-zero on a failure.

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
ARCHITECTURE = os.path.join(REPO, "docs", "ARCHITECTURE.md")
LAYERS_REL = os.path.join("docs", "ARCHITECTURE.md")

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
        with open(ARCHITECTURE, encoding="utf-8") as f:
            self.architecture = f.read()
        self.write({LAYERS_REL: self.architecture})

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

    def edit_layers(self, old, new):
        """The fake tree's docs/ARCHITECTURE.md with OLD (which must occur once) replaced by NEW;
        returns the 1-based line number where OLD began."""
        self.assertEqual(self.architecture.count(old), 1, old)
        line = self.architecture[:self.architecture.index(old)].count("\n") + 1
        self.architecture = self.architecture.replace(old, new)
        self.write({LAYERS_REL: self.architecture})
        return line

    def row_of(self, folder):
        """The whole line of FOLDER's row in the layer table of the fake tree's copy."""
        for line in self.architecture.split("\n"):
            if line.startswith("| `%s/` |" % folder):
                return line
        self.fail("no row for %s/ in %s" % (folder, ARCHITECTURE))

    def assert_usage_error(self, *expected, args=()):
        rc, out = self.run_script(*args)
        self.assertEqual(rc, 2, out)
        self.assertEqual(len(out.strip().splitlines()), 1, out)  # one message
        self.assertTrue(out.startswith("check-layers: "), out)
        for text in expected:
            self.assertIn(text, out)
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

    # --- the layer table, read from docs/ARCHITECTURE.md ---------------------------------------

    def test_an_edge_added_to_the_documents_table_is_allowed(self):
        self.write({"core/zo/a.cpp": '#include "run/runner.h"\n'})
        self.assert_fails('core/zo/a.cpp:1: #include "run/runner.h": zo/ may not include run/')
        zo = self.row_of("zo")
        self.assertTrue(zo.endswith(", cuda |"), zo)
        self.edit_layers(zo, zo[:-len(" |")] + ", run |")
        rc, out = self.run_script()
        self.assertEqual(rc, 0, out)
        self.assertIn("follow the layer table", out)

    def test_an_edge_removed_from_the_documents_table_fails(self):
        ui = self.row_of("ui")
        self.edit_layers(ui, ui.replace("| run, store, common |", "| run, common |"))
        self.assert_fails('ui/workbench.cpp:2: #include "store/store.h": ui/ may not include store/ '
                          '(ui may include: run, common)')

    def test_a_folder_with_no_row_fails_naming_the_table(self):
        # fo/ is named by no row but run/'s "every folder of core/"
        self.edit_layers(self.row_of("fo") + "\n", "")
        self.write({"core/fo/first_order.cpp": '#include "common/error.h"\n'})
        out = self.assert_fails("core/fo/ is not in the layer table (1 file; the folders of core/ are: "
                                "common, model, data, peft, eval, dist, zo, pretrain,")
        self.assertNotIn(", fo,", out)

    def test_layers_option_reads_another_file(self):
        table = textwrap.dedent("""\
            # Layers

            ### The layer table

            | folder | what it owns | may include |
            | :-- | --- | --: |
            | `common/` | errors | \u2014 |
            | `model/` | the model | common |
            | `cuda/` | kernels | common |
            | `zo/` | ZO | model, cuda, common |
            | `store/` | the database | common |
            | `run/` | runs | every folder of core/ |
            | `ui/` | widgets | run, store, common |
            | `app/` | the binary | ui, run, store, common |

            Text after the table.
            """)
        self.write({"elsewhere/layers.md": table, LAYERS_REL: "no table here\n"})
        rc, out = self.run_script("--layers", os.path.join(self.root, "elsewhere", "layers.md"))
        self.assertEqual(rc, 0, out)
        # run/'s "every folder of core/" are the core rows of that file; the default file is bad
        self.write({"core/run/a.cpp": '#include "zo/engine.h"\n#include "cuda/kernels.cuh"\n'})
        rc, out = self.run_script("--layers", os.path.join(self.root, "elsewhere", "layers.md"))
        self.assertEqual(rc, 0, out)
        self.assert_usage_error("docs/ARCHITECTURE.md: no line '### The layer table'")

    def test_missing_layers_file_is_a_usage_error(self):
        os.remove(os.path.join(self.root, LAYERS_REL))
        self.assert_usage_error(os.path.join(self.root, LAYERS_REL) + ": no such file")
        missing = os.path.join(self.root, "nowhere.md")
        self.assert_usage_error(missing + ": no such file", args=("--layers", missing))

    def test_missing_layers_file_stops_print_graph_too(self):
        os.remove(os.path.join(self.root, LAYERS_REL))
        self.assert_usage_error("ARCHITECTURE.md: no such file", args=("--print-graph",))

    def test_malformed_tables_are_usage_errors_naming_file_and_line(self):
        path = os.path.join(self.root, LAYERS_REL)
        original = self.architecture
        lines = original.split("\n")
        heading = lines.index("### The layer table") + 1
        self.assertEqual(lines[heading], "")  # one blank line, then the header row
        zo, ui = self.row_of("zo"), self.row_of("ui")
        zo_line = lines.index(zo) + 1
        cells = "a row of the layer table has three cells (folder | what it owns | may include), "
        names = ("the may-include cell of zo/ is '\u2014' (no other folder), 'every folder of "
                 "core/', or folder names separated by commas (eval, model, common); ")
        cases = [
            # (the text replaced, its replacement, the line named, the message after it)
            (zo, zo.replace("| dist, eval,", "| dist; eval,"), zo_line,
             names + "'dist; eval' is not a folder name"),
            (zo, zo.replace("| dist, eval,", "| dist, `eval/`,"), zo_line,
             names + "'`eval/`' is not a folder name"),
            (zo, zo.replace("| dist, eval,", "| dist, evaluation,"), zo_line,
             "zo/ may include 'evaluation', which is not a folder of the table (the folders: "
             "common, model, data, peft, eval, dist, zo, fo,"),
            (zo, zo.replace("| dist, eval,", "| dist, eval, dist,"), zo_line,
             "zo/ names dist twice in its may-include cell"),
            (zo, zo.replace("| `zo/` |", "| zo/ |"), zo_line,
             "the folder cell is a name in backticks with a trailing slash (`zo/`), found 'zo/'"),
            (zo, zo.replace(" | dist, eval,", " \\| dist, eval,"), zo_line, cells + "this one has 2"),
            (zo, zo + " extra |", zo_line, cells + "this one has 4"),
            (zo, zo[:-1], zo_line, cells + "this one has no closing '|'"),
            (zo, zo + "\n" + self.row_of("model"), zo_line + 1,
             "a second row for model/ (the first is on line %d)" % (lines.index(self.row_of("model")) + 1)),
            ("\n| folder | what it owns | may include |\n", "\n| folder | owns | may include |\n",
             heading + 2,
             "expected the table's header row '| folder | what it owns | may include |' after "
             "'### The layer table'"),
            ("### The layer table\n\n", "### The layer table\n\nSome text.\n", heading + 2,
             "expected the table's header row"),
            ("| --- | --- | --- |\n| `common/`", "| --- | --- |\n| `common/`", heading + 3,
             "expected the separator row '| --- | --- | --- |' under the header row"),
            ("| --- | --- | --- |\n| `common/`", "| --- | --- | --- |\n\n| `common/`", heading + 4,
             "the layer table has no rows"),
            (ui + "\n", "", heading, "the layer table has no row for ui/"),
        ]
        for old, new, line, message in cases:
            with self.subTest(message=message):
                self.architecture = original
                self.edit_layers(old, new)
                self.assert_usage_error("check-layers: %s:%d: %s" % (path, line, message))

    def test_missing_or_repeated_heading_is_a_usage_error(self):
        path = os.path.join(self.root, LAYERS_REL)
        original = self.architecture
        self.edit_layers("### The layer table\n", "### Layers\n")
        self.assert_usage_error("check-layers: %s: no line '### The layer table'" % path)
        self.architecture = original
        heading = original.split("\n").index("### The layer table") + 1
        self.write({LAYERS_REL: original + "\n### The layer table\n"})
        self.assert_usage_error("check-layers: %s:%d: a second heading '### The layer table' "
                                "(the first is on line %d)"
                                % (path, len(original.split("\n")) + 1, heading))

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
