{{- /* vigil --format template --template @contrib/templates/gitlab.tpl -o gl-container-scanning-report.json
       GitLab container scanning report (schema 15.x). */ -}}
{
  "version": "15.0.7",
  "scan": {
    "analyzer": {"id": "vigil", "name": "vigil", "vendor": {"name": "vigil"}, "version": "1"},
    "scanner": {"id": "vigil", "name": "vigil", "vendor": {"name": "vigil"}, "version": "1"},
    "type": "container_scanning",
    "start_time": {{ toJSON (date "2006-01-02T15:04:05") }},
    "end_time": {{ toJSON (date "2006-01-02T15:04:05") }},
    {{- if .Warnings }}
    "messages": [
    {{- range $i, $w := .Warnings }}{{ if $i }},{{ end }}
      {"level": "warn", "value": {{ toJSON (printf "scan incomplete: %s" $w) }}}
    {{- end }}
    ],
    {{- end }}
    "status": "success"
  },
  "vulnerabilities": [
  {{- $first := true }}
  {{- $image := .Artifact.Name }}
  {{- $os := "" }}{{ with .Artifact.OS }}{{ $os = printf "%s %s" .Family .Name }}{{ end }}
  {{- range .Results }}{{ range .Vulnerabilities }}{{ if not .Suppressed }}
    {{- if $first }}{{ $first = false }}{{ else }},{{ end }}
    {
      "id": {{ toJSON (printf "%s:%s:%s" .ID .PkgName .InstalledVersion) }},
      "name": {{ toJSON (printf "%s in %s" .ID .PkgName) }},
      "description": {{ toJSON .Description }},
      "severity": {{ if eq .Severity "CRITICAL" }}"Critical"{{ else if eq .Severity "HIGH" }}"High"{{ else if eq .Severity "MEDIUM" }}"Medium"{{ else if eq .Severity "LOW" }}"Low"{{ else }}"Unknown"{{ end }},
      "solution": {{ if .FixedVersion }}{{ toJSON (printf "Upgrade %s to %s" .PkgName .FixedVersion) }}{{ else }}"No solution provided"{{ end }},
      "location": {
        "dependency": {"package": {"name": {{ toJSON .PkgName }}}, "version": {{ toJSON .InstalledVersion }}},
        "operating_system": {{ toJSON $os }},
        "image": {{ toJSON $image }}
      },
      "identifiers": [
        {"type": {{ if eq (printf "%.4s" .ID) "CVE-" }}"cve"{{ else }}"vigil"{{ end }}, "name": {{ toJSON .ID }}, "value": {{ toJSON .ID }}, "url": {{ toJSON .PrimaryURL }}}
      ],
      "links": [{"url": {{ toJSON .PrimaryURL }}}]
    }
  {{- end }}{{ end }}{{ end }}
  ]
}
