#!/bin/sh
# Memory/QPS plot of memory_bench's output. usage: plot_memory.sh DIR TAG TITLE  (reads
# DIR/memory_TAG.dat, writes DIR/memory_TAG.png). Each block of the .dat starts with "# <library>",
# then one line: resident bytes/vector, QPS at the smallest ef reaching recall 0.99, that ef.
set -eu
command -v gnuplot >/dev/null || { echo "plot_memory.sh: no gnuplot, no plot" >&2; exit 1; }
dir=$1 tag=$2 title=$3
dat="$dir/memory_$tag.dat"
plots=$(grep '^# ' "$dat" | sed 's/^# //' | awk -v f="$dat" '{
  gsub(/\x27/, "")
  printf "%s\x27%s\x27 index %d using 1:2 with points pt %d ps 2 lw 2 title \x27%s\x27", (NR > 1 ? ", " : ""), f, NR - 1, NR, $0
}')
gnuplot <<G
set terminal pngcairo size 1000,650
set output '$dir/memory_$tag.png'
set title "$title, 60000 x 784\nk=10, M=16, efConstruction=200, one thread, one query per call" noenhanced
set xlabel 'resident bytes per vector (RssAnon + RssFile growth)' noenhanced
set ylabel 'queries per second at recall@10 >= 0.99 (log)' noenhanced
set logscale y
set xrange [0:*]
set offsets 0, graph 0.05, 0, 0
set key outside right top noenhanced
set grid
plot $plots
G
