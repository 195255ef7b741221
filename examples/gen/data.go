package main

import _ "embed"

//go:embed data/apk_installed
var apkInstalled string

const osRelease = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.0
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`

const appPackageJSON = `{
  "name": "demo-app",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "lodash": "4.17.20",
    "minimist": "1.2.5"
  }
}
`

const appPackageLock = `{
  "name": "demo-app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "demo-app",
      "version": "1.0.0",
      "dependencies": {
        "lodash": "4.17.20",
        "minimist": "1.2.5"
      }
    },
    "node_modules/lodash": {
      "version": "4.17.20",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA=="
    },
    "node_modules/minimist": {
      "version": "1.2.5",
      "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz",
      "integrity": "sha512-FM9nNUYrRBAELZQT3xeZQ7fmMOBg6nWNmJKTcgsJeaLstP/UODVpGsr5OhXhhXg6f+qtJ8uiZ+PUxkDWcgIXLw=="
    }
  }
}
`

// alpineSecdb is secdb.alpinelinux.org/v3.19/main.json, trimmed to three
// origins.
const alpineSecdb = `{
  "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
  "archs": ["aarch64", "armhf", "armv7", "ppc64le", "s390x", "x86", "x86_64"],
  "reponame": "main",
  "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
  "distroversion": "v3.19",
  "packages": [
    {"pkg": {"name": "busybox", "secfixes": {"1.36.1-r7": ["CVE-2022-48174"], "0": ["CVE-2021-42373"]}}},
    {"pkg": {"name": "openssl", "secfixes": {
      "3.1.4-r5": ["CVE-2024-0727"],
      "3.1.4-r4": ["CVE-2023-6237"],
      "3.1.4-r3": ["CVE-2023-6129"],
      "3.1.4-r1": ["CVE-2023-5678"],
      "3.1.2-r0": ["CVE-2023-3817"]
    }}},
    {"pkg": {"name": "zlib", "secfixes": {"1.2.12-r2": ["CVE-2022-37434"]}}}
  ]
}
`

const osvLodash = `{
  "schema_version": "1.4.0",
  "id": "GHSA-35jh-r3h4-6jhm",
  "modified": "2023-11-08T04:04:50Z",
  "published": "2021-05-06T16:05:51Z",
  "aliases": ["CVE-2021-23337"],
  "summary": "Command Injection in lodash",
  "details": "` + "`lodash`" + ` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "npm", "name": "lodash", "purl": "pkg:npm/lodash"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]
  }],
  "references": [
    {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"},
    {"type": "PACKAGE", "url": "https://github.com/lodash/lodash"}
  ],
  "database_specific": {"cwe_ids": ["CWE-77", "CWE-94"], "severity": "HIGH", "github_reviewed": true}
}
`

const osvMinimist = `{
  "schema_version": "1.4.0",
  "id": "GHSA-xvch-5gv4-984h",
  "modified": "2024-02-16T08:16:43Z",
  "published": "2022-03-18T00:01:09Z",
  "aliases": ["CVE-2021-44906"],
  "summary": "Prototype Pollution in minimist",
  "details": "Minimist prior to 1.2.6 and 0.2.4 is vulnerable to Prototype Pollution via file ` + "`index.js`" + `, function ` + "`setKey()`" + ` (lines 69-95).",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [
    {"package": {"ecosystem": "npm", "name": "minimist", "purl": "pkg:npm/minimist"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.2.4"}]}]},
    {"package": {"ecosystem": "npm", "name": "minimist", "purl": "pkg:npm/minimist"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.6"}]}]}
  ],
  "references": [
    {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44906"},
    {"type": "PACKAGE", "url": "https://github.com/minimistjs/minimist"}
  ],
  "database_specific": {"cwe_ids": ["CWE-1321"], "severity": "CRITICAL", "github_reviewed": true}
}
`

const lodashPackageJSON = `{
  "name": "lodash",
  "version": "4.17.20",
  "description": "Lodash modular utilities.",
  "license": "MIT",
  "main": "lodash.js",
  "homepage": "https://lodash.com/",
  "repository": "lodash/lodash"
}
`

const minimistPackageJSON = `{
  "name": "minimist",
  "version": "1.2.5",
  "description": "parse argument options",
  "main": "index.js",
  "license": "MIT",
  "repository": {"type": "git", "url": "git://github.com/substack/minimist.git"}
}
`
