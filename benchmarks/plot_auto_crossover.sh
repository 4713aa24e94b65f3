#!/bin/sh
# Plot of auto_crossover's --dat output: build + 1 000 queries against n, one panel per data set.
# usage: plot_auto_crossover.sh FILE.dat OUT.png
set -eu
dat=$1 out=$2
blocks=$(grep -c '^# ' "$dat")
gnuplot <<G
set terminal pngcairo size $((blocks * 400)),400
set output '$out'
set multiplot layout 1,$blocks
set logscale xy
set grid
set key top left
set xlabel 'vectors (n)'
set ylabel 'seconds: build + 1000 single queries (log)'
$(i=0; grep '^# ' "$dat" | sed 's/^# //' | while read -r title; do
  echo "set title '$title' noenhanced"
  echo "plot '$dat' index $i using 1:2 with linespoints title 'flat', '' index $i using 1:3 with linespoints title 'ivf', '' index $i using 1:4 with linespoints title 'hnsw', '' index $i using 1:5 with linespoints dashtype 2 title 'auto'"
  i=$((i + 1))
done)
unset multiplot
G
