#!/bin/sh
# The Prometheus exposition of a collection, of the process and of a named (database) collection
# passes `promtool check metrics`.
# usage: check_prometheus.sh path/to/metrics_dump
set -eu
for scope in collection process database; do
  if ! "$1" "$scope" | promtool check metrics; then
    echo "promtool rejected the $scope metrics"
    exit 1
  fi
done
echo "promtool: collection, process and database collection metrics ok"
