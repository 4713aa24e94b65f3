#!/bin/sh
# Cost-growth plot of scale_bench's output. usage: plot_scale.sh DIR (reads DIR/scale.dat, writes
# DIR/scale.png): for each synthetic dataset (gauss*) and library, QPS at recall 0.95 and 0.99 and
# build time against n, all log scale. scale.dat rows: dataset n lib build_s bytes qps95 qps99.
set -eu
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
series=$(awk '!/^#/ && $1 ~ /^gauss/ {print $1 "_" $3}' "$dir/scale.dat" | sort -u)
[ -n "$series" ] || exit 1
qps="" build="" i=0
for s in $series; do
  awk -v s="$s" '!/^#/ && $1 "_" $3 == s' "$dir/scale.dat" | sort -n -k2 > "$tmp/$s"
  t=$(echo "$s" | sed 's/_/ /') i=$((i + 1))
  qps="$qps${qps:+, }'$tmp/$s' using 2:6 with linespoints linecolor $i title '$t, recall 0.95'"
  qps="$qps, '$tmp/$s' using 2:7 with linespoints linecolor $i dashtype 2 title '$t, recall 0.99'"
  build="$build${build:+, }'$tmp/$s' using 2:4 with linespoints linecolor $i title '$t'"
done
gnuplot <<G
set terminal pngcairo size 1400,560
set output '$dir/scale.png'
set multiplot layout 1,2
set logscale xy
set grid
set xlabel 'n (vectors, log)'
set key bottom left font ',9' noenhanced
set title 'single-thread QPS at recall@10 (M=16, efConstruction=200)' noenhanced
set ylabel 'queries per second (log)'
plot $qps
set title 'build time (2 threads)' noenhanced
set ylabel 'seconds (log)'
set key top left font ',9' noenhanced
plot $build
unset multiplot
G
