module example.com/app

go 1.22

toolchain go1.22.3

require (
	github.com/BurntSushi/toml v1.3.2
	golang.org/x/net v0.17.0
	example.com/local v0.0.0
)

require golang.org/x/text v0.14.0 // indirect

replace golang.org/x/net v0.17.0 => golang.org/x/net v0.23.0

replace example.com/local => ../local

godebug default=go1.21
