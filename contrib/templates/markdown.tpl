{{- /* vigil --format template --template @contrib/templates/markdown.tpl: a pull-request comment. */ -}}
### vigil: {{ .Artifact.Name }}
{{ with .Artifact.OS }}OS: **{{ .Family }} {{ .Name }}**{{ if .EOSL }} — :warning: past its end of support{{ end }}
{{ end -}}
{{ with .Warnings }}
:warning: **Scan incomplete** ({{ len . }} warnings): vulnerabilities may be missing from this report.
{{ range . }}- {{ . }}
{{ end }}
{{ end -}}
{{ $c := severityCount . -}}
**{{ $c.CRITICAL }}** critical · **{{ $c.HIGH }}** high · **{{ $c.MEDIUM }}** medium · **{{ $c.LOW }}** low · **{{ $c.UNKNOWN }}** unknown
{{ range .Results }}{{ if .Vulnerabilities }}
#### {{ .Target }}

| Severity | ID | Package | Installed | Fixed | Title |
| --- | --- | --- | --- | --- | --- |
{{ range .Vulnerabilities }}{{ if not .Suppressed }}| {{ .Severity }} | [{{ .ID }}]({{ .PrimaryURL }}) | {{ .PkgName }} | {{ .InstalledVersion }} | {{ .FixedVersion }} | {{ trunc 80 .Title }} |
{{ end }}{{ end }}{{ end }}{{ end -}}
