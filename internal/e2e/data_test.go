package e2e_test

// The images' package databases, written as the package managers write
// them.

const alpineOSRelease = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
`

// apkInstalled: libcrypto3 and libssl3 come from origin openssl (the
// secdb names origins), busybox sits exactly at its fixed version, zlib
// is listed as not affected ("0").
const apkInstalled = `C:Q1aaaaaaaaaaaaaaaaaaaaaaaaaaa=
P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox

C:Q1bbbbbbbbbbbbbbbbbbbbbbbbbbb=
P:libcrypto3
V:3.1.4-r1
A:x86_64
L:Apache-2.0
o:openssl

C:Q1ccccccccccccccccccccccccccc=
P:libssl3
V:3.1.4-r1
A:x86_64
L:Apache-2.0
o:openssl

C:Q1ddddddddddddddddddddddddddd=
P:zlib
V:1.3-r2
A:x86_64
L:Zlib
o:zlib

`

const debianOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`

// dpkgStatus: libssl3 from source openssl; libfoo1 is a binNMU
// (1.2-3+b1 built from source foo 1.2-3); cpp is built from gcc-defaults
// with a version and epoch of its own; libbar2 carries an epoch; and a
// removed package that must not be reported.
const dpkgStatus = `Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u1

Package: libfoo1
Status: install ok installed
Architecture: amd64
Source: foo (1.2-3)
Version: 1.2-3+b1

Package: cpp
Status: install ok installed
Architecture: amd64
Source: gcc-defaults (1.203)
Version: 4:12.2.0-3

Package: libbar2
Status: install ok installed
Architecture: amd64
Source: bar
Version: 1:2.0-1

Package: libgone1
Status: deinstall ok config-files
Architecture: amd64
Source: openssl
Version: 3.0.9-1
`

// debianSidOSRelease is what an unstable image carries: no VERSION_ID.
const debianSidOSRelease = `PRETTY_NAME="Debian GNU/Linux trixie/sid"
NAME="Debian GNU/Linux"
VERSION_CODENAME=trixie
ID=debian
`

const dpkgStatusSid = `Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.1.0-1
`

const rhelOSRelease = `NAME="Red Hat Enterprise Linux"
VERSION="9.2 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.2"
PRETTY_NAME="Red Hat Enterprise Linux 9.2 (Plow)"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
`

const epssCSV = `#model_version:v2023.03.01,score_date:2024-03-01T00:00:00+0000
cve,epss,percentile
CVE-2021-44228,0.97565,0.99996
CVE-2021-23337,0.01234,0.85000
`
