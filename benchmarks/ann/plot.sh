#!/bin/sh
# Recall/QPS plot of ann_bench's output. usage: plot.sh DIR  (reads DIR/ann.dat, writes
# DIR/ann_fashion_mnist.png). Each block of ann.dat starts with "# <library>".
set -eu
dir=$1
titles=$(grep '^# ' "$dir/ann.dat" | sed 's/^# //')
plots="" i=0
for t in $titles; do
  plots="$plots${plots:+, }'$dir/ann.dat' index $i using 1:2 with linespoints title '$t'"
  i=$((i + 1))
done
gnuplot <<G
set terminal pngcairo size 900,600
set output '$dir/ann_fashion_mnist.png'
set title 'Fashion-MNIST 60000 x 784, k=10, M=16, efConstruction=200, one thread' noenhanced
set xlabel 'recall at k=10 (ef from 10 to 256)' noenhanced
set ylabel 'queries per second (log)'
set logscale y
set key top right
set grid
plot $plots
G
