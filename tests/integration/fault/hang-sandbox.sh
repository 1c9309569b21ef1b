#!/bin/sh
# Fault injection: a parser that takes a request and never answers.
exec sleep 3601
