#!/bin/sh
# Recall/QPS plot of lsh_ivf_bench's output. usage: plot_lsh_ivf.sh DIR TAG TITLE  (reads
# DIR/lsh_ivf_TAG.dat, writes DIR/lsh_ivf_TAG.png). Each block of the .dat starts with "# <index>".
set -eu
dir=$1 tag=$2 title=$3
dat="$dir/lsh_ivf_$tag.dat"
plots=$(grep '^# ' "$dat" | sed 's/^# //' | awk -v f="$dat" '{
  gsub(/\x27/, "")
  printf "%s\x27%s\x27 index %d using 1:2 with linespoints lt %d pt %d lw 1.5 title \x27%s\x27", (NR > 1 ? ", " : ""), f, NR - 1, NR, NR, $0
}')
gnuplot <<G
set terminal pngcairo size 1100,700
set output '$dir/lsh_ivf_$tag.png'
set title '$title 60000 x 784, k=10, one thread, one query per call' noenhanced
set xlabel 'recall at k=10' noenhanced
set ylabel 'queries per second (log)'
set logscale y
set key outside right top noenhanced
set grid
plot $plots
G
