#!/usr/bin/env python3
"""msgbody.py MSGFILE sent|received REGEX: print the body of the first
message of a SIPp -trace_msg file that went that way and whose first line
matches REGEX (bytes as logged, CRLF kept). Exit 1 if there is none."""
import re
import sys


def main():
    path, way, pat = sys.argv[1], sys.argv[2].encode(), re.compile(sys.argv[3].encode())
    data = open(path, 'rb').read()
    # blocks: a dashed line with a timestamp, "... message <way> (N bytes):", blank, message
    for m in re.finditer(rb'message (sent|received) [([](\d+)\]? bytes\)? ?:\r?\n\r?\n', data):
        if m.group(1) != way:
            continue
        n = int(m.group(2))
        msg = data[m.end():m.end() + n]
        first = msg.split(b'\n', 1)[0]
        if not pat.search(first):
            continue
        sep = msg.find(b'\r\n\r\n')
        if sep < 0:
            sys.exit(1)
        sys.stdout.buffer.write(msg[sep + 4:])
        return
    sys.exit(1)


main()
