#!/usr/bin/env bash
# Seeds for fuzz_kerascfg: Keras 2 model_config texts of the three shapes
# pf_keras_config takes (Sequential with a layers list, Keras <= 2.1's bare
# list, a functional Model), each behind the room byte fuzz_kerascfg reads.
set -eu
out=$1
mkdir -p "$out"
seed() { printf '\x08%s' "$2" >"$out/$1"; }
seed sequential '{"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [{"class_name": "Dense", "config": {"name": "dense_1", "units": 70, "activation": "relu", "batch_input_shape": [null, 486]}}, {"class_name": "Dropout", "config": {"name": "dropout_1", "rate": 0.5}}, {"class_name": "Dense", "config": {"name": "dense_2", "units": 2, "activation": "softmax"}}]}, "keras_version": "2.2.4", "backend": "tensorflow"}'
seed bare_list '{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d\u00e9nse", "activation": "relu"}}, {"class_name": "Dense", "config": {"name": "out", "activation": "softmax"}}]}'
seed functional '{"class_name": "Model", "config": {"name": "m", "layers": [{"class_name": "InputLayer", "config": {"name": "input_1"}, "inbound_nodes": []}, {"class_name": "Dense", "config": {"name": "dense_1", "activation": "relu"}, "inbound_nodes": [[["input_1", 0, 0, {}]]]}], "input_layers": [["input_1", 0, 0]]}}'
seed no_layers '{"config": {"name": "x"}}'
