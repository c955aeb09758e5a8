#!/usr/bin/env bash
# Reproducible build of ../echarts.min.js: a custom ECharts subset (see entry.js).
# Versions are pinned in package.json + package-lock.json; to refresh, bump them
# there (npm install --save-exact echarts@X esbuild@Y), then run this script.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund

ECHARTS_VERSION="$(node -p 'require("echarts/package.json").version')"

# ECharts' Apache-2.0 header is a plain /* */ comment in each source file, which
# esbuild drops; put it back as a banner. Other licence comments (/*! ... */ from
# zrender and tslib) are collected at the end of the file by --legal-comments=eof.
BANNER="/*! ECharts ${ECHARTS_VERSION} (https://echarts.apache.org), custom build from crates/web/static/echarts/entry.js
* Licensed to the Apache Software Foundation (ASF) under one
* or more contributor license agreements.  See the NOTICE file
* distributed with this work for additional information
* regarding copyright ownership.  The ASF licenses this file
* to you under the Apache License, Version 2.0 (the
* \"License\"); you may not use this file except in compliance
* with the License.  You may obtain a copy of the License at
*
*   http://www.apache.org/licenses/LICENSE-2.0
*
* Unless required by applicable law or agreed to in writing,
* software distributed under the License is distributed on an
* \"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
* KIND, either express or implied.  See the License for the
* specific language governing permissions and limitations
* under the License.
*/"

npx --no-install esbuild entry.js \
  --bundle --minify --format=iife --target=es2018 \
  --define:process.env.NODE_ENV='"production"' \
  --legal-comments=eof \
  --banner:js="$BANNER" \
  --outfile=../echarts.min.js
