module x.com/y

require a.com/b v1.0.0
