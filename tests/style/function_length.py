#!/usr/bin/python3
"""No function over LIMIT lines in the folders that grew God functions
(issue 17: src/pipeline, src/serving, src/gateway, src/server). STYLE.md
rule 34 asks for functions mostly under 40 lines; this is the hard ceiling.

  function_length.py SOURCE_DIR [LIMIT=80]

A function is a definition at namespace or class scope (indent 0 or 2)
whose signature (possibly over several lines) ends in "{"; its length runs
from the signature's first line to the "}" at the same indent. Lambdas and
blocks inside a function count toward it. Exits 1 naming each one over the
limit, longest first.
"""
import os
import re
import sys

FOLDERS = ["src/pipeline", "src/serving", "src/gateway", "src/server"]
NOT_A_FUNCTION = re.compile(r"^\s*(namespace|struct|class|enum|union|extern|if|for|while|switch|else|do|try|"
                            r"catch|return|case|default)\b")


def long_functions(path, limit):
    lines = open(path, encoding="utf-8").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        if lines[i].rstrip().endswith("{") and not NOT_A_FUNCTION.match(lines[i]):
            # Back to the line after the previous statement, blank line or comment.
            k = i
            while (k > 0 and lines[k - 1].strip() and not lines[k - 1].rstrip().endswith((";", "}", "{", ":"))
                   and not lines[k - 1].lstrip().startswith(("//", "#"))):
                k -= 1
            indent = len(lines[k]) - len(lines[k].lstrip())
            signature = " ".join(x.strip() for x in lines[k:i + 1])
            if (indent in (0, 2) and "(" in signature and not NOT_A_FUNCTION.match(lines[k])
                    and "=" not in signature.split("(")[0]):
                j = i + 1
                while j < len(lines) and not (lines[j].startswith(" " * indent + "}")
                                              and len(lines[j]) - len(lines[j].lstrip()) == indent):
                    j += 1
                if j - k + 1 > limit:
                    found.append((j - k + 1, f"{path}:{k + 1}", signature[:100]))
                i = j
        i += 1
    return found


def main():
    source = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    found = []
    for folder in FOLDERS:
        for root, _, files in os.walk(os.path.join(source, folder)):
            for name in sorted(files):
                if name.endswith((".cpp", ".h")):
                    found += long_functions(os.path.join(root, name), limit)
    for n, where, signature in sorted(found, reverse=True):
        print(f"{where}: {n} lines (limit {limit}): {signature}")
    if found:
        print(f"{len(found)} function(s) over {limit} lines: cut them into named steps")
        return 1
    print(f"no function over {limit} lines in {', '.join(FOLDERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
