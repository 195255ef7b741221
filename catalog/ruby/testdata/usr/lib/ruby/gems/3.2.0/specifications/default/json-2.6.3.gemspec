# -*- encoding: utf-8 -*-
# stub: json 2.6.3 ruby lib
# stub: ext/json/ext/generator/extconf.rb ext/json/ext/parser/extconf.rb

Gem::Specification.new do |s|
  s.name = "json".freeze
  s.version = "2.6.3"
  s.licenses = ["Ruby".freeze, "BSD-2-Clause".freeze]
end
