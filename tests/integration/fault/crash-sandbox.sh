#!/bin/sh
# Fault injection: a parser that reads a request and dies by SIGSEGV.
head -c 24 >/dev/null
kill -SEGV $$
