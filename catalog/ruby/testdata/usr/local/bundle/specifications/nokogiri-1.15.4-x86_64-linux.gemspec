# -*- encoding: utf-8 -*-
# stub: nokogiri 1.15.4 x86_64-linux lib

Gem::Specification.new do |spec|
  spec.name = 'nokogiri'.freeze
  spec.version = "1.15.4".freeze
  spec.platform = "x86_64-linux".freeze
  spec.license = "MIT"

  if spec.respond_to? :specification_version then
    spec.specification_version = 4
  end
  spec.add_runtime_dependency(%q<racc>.freeze, ["~> 1.4".freeze])
end
