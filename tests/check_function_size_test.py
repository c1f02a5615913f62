#!/usr/bin/env python3
"""Tests of scripts/check-function-size: small C++ files written to a temporary folder, the
script run on them. Standard library only; exit status non-zero on a failure."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "check-function-size")


def body(lines):
    return "".join(f"    x += {i};\n" for i in range(lines))


class CheckFunctionSize(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def run_on(self, text, limit=10):
        with open(os.path.join(self.tmp.name, "a.cpp"), "w") as f:
            f.write(text)
        return subprocess.run([sys.executable, SCRIPT, "--root", self.tmp.name, "--max", str(limit), "a.cpp"],
                              capture_output=True, text=True)

    def test_short_functions_pass(self):
        p = self.run_on("namespace a {\nint f(int x) {\n" + body(5) + "    return x;\n}\n}  // namespace a\n")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("1 functions", p.stdout)

    def test_long_function_is_named_with_its_line_and_length(self):
        p = self.run_on("// head\nnamespace a {\n\nint longOne(int x) const {\n" + body(12) + "    return x;\n}\n}\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn("a.cpp:4: 15 lines: int longOne(int x) const", p.stdout)

    def test_lambdas_and_blocks_count_towards_their_function(self):
        text = "void f() {\n    auto g = [&](int y) {\n" + body(6) + "    };\n    if (true) {\n" + body(4) + "    }\n}\n"
        p = self.run_on(text)
        self.assertEqual(p.returncode, 1)
        self.assertIn("a.cpp:1: 16 lines: void f()", p.stdout)
        self.assertIn("1 of 1 functions", p.stdout)

    def test_members_in_a_class_and_constructors_with_initializers(self):
        text = ("class C {\npublic:\n    C(int a) : m_a{a}, m_b(a) {\n" + body(11) + "    }\n"
                "    int get() const { return m_a; }\nprivate:\n    int m_a, m_b;\n};\n")
        p = self.run_on(text)
        self.assertEqual(p.returncode, 1)
        self.assertIn("a.cpp:3: 13 lines: C(int a) : m_a{a}, m_b(a)", p.stdout)
        self.assertIn("1 of 2 functions", p.stdout)

    def test_braces_in_strings_comments_and_initializers_are_not_functions(self):
        text = ('const int table[] = {1, 2, 3};\n// void fake() {\nconst char* s = "{ int g() {";\n'
                'const char* r = R"x(})x";\nint h() {\n    return 1;\n}\n')
        p = self.run_on(text, limit=3)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("1 functions", p.stdout)

    def test_missing_path_is_an_error(self):
        p = subprocess.run([sys.executable, SCRIPT, "--root", self.tmp.name, "nothing.cpp"],
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nothing.cpp", p.stderr)


if __name__ == "__main__":
    unittest.main()
