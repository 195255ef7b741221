module example.com/tidy

go 1.21

require github.com/gorilla/handlers v1.5.1

require github.com/felixge/httpsnoop v1.0.1 // indirect
