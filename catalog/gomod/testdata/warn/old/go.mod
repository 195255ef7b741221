module example.com/old

go 1.16

require github.com/gorilla/mux v1.8.0
