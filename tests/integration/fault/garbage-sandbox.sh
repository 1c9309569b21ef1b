#!/bin/sh
# Fault injection: a parser that answers with bytes that are no frame.
head -c 24 >/dev/null
printf 'this is not a pf_wire frame at all.....' >&3
exec sleep 3601
