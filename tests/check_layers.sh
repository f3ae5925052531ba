#!/usr/bin/env bash
# check_layers.sh: fails when a layer includes a header of a layer above it.
#   tensor <- autograd <- nn <- optim <- train <- examples/tools; bpe stands alone.
# Each line: a layer folder and the folders it may include.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
allowed="tensor:tensor
autograd:tensor autograd
nn:tensor autograd nn
optim:tensor autograd optim
train:tensor autograd nn optim train
bpe:bpe"
bad=0
while IFS=: read -r layer ok; do
  [ -d "$layer" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$line")
    case " $ok " in *" $inc "*) ;; *) echo "layering: $line  ($layer may include only: $ok)"; bad=1 ;; esac
  done < <(grep -rnE '^\s*#\s*include\s+"[^"/]+/' "$layer" --include='*.h' --include='*.cpp' | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done <<<"$allowed"
if [ "$bad" = 0 ]; then echo "layering: ok"; fi
exit $bad
