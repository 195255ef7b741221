{{- /* vigil --format template --template @contrib/templates/html.tpl -o report.html */ -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vigil report: {{ escapeXML .Artifact.Name }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eee; }
.CRITICAL { background: #e40000; color: #fff; } .HIGH { background: #ff8800; }
.incomplete { border: 2px solid #ff8800; padding: 0 1em; margin-bottom: 2em; }
.MEDIUM { background: #e9c600; } .LOW { background: #5fbb31; } .UNKNOWN { background: #747474; color: #fff; }
</style>
</head>
<body>
<h1>{{ escapeXML .Artifact.Name }}</h1>
<p>Scanned {{ now }}{{ with .Artifact.OS }} · {{ escapeXML .Family }} {{ escapeXML .Name }}{{ if .EOSL }} (past end of support){{ end }}{{ end }}</p>
{{- with .Warnings }}
<div class="incomplete"><strong>Scan incomplete ({{ len . }} warnings): vulnerabilities may be missing from this report.</strong>
<ul>
{{- range . }}
<li>{{ escapeXML .String }}</li>
{{- end }}
</ul></div>
{{- end }}
{{- range .Results }}
<h2>{{ escapeXML .Target }}</h2>
{{- if .Vulnerabilities }}
<table>
<tr><th>Package</th><th>ID</th><th>Severity</th><th>Installed</th><th>Fixed</th><th>Title</th><th>Layer</th></tr>
{{- range .Vulnerabilities }}{{ if not .Suppressed }}
<tr><td>{{ escapeXML .PkgName }}</td><td><a href="{{ escapeXML .PrimaryURL }}">{{ escapeXML .ID }}</a></td><td class="{{ .Severity }}">{{ .Severity }}</td><td>{{ escapeXML .InstalledVersion }}</td><td>{{ escapeXML .FixedVersion }}</td><td>{{ escapeXML .Title }}</td><td>{{ escapeXML .Layer.CreatedBy }}</td></tr>
{{- end }}{{ end }}
</table>
{{- else }}
<p>No vulnerabilities found.</p>
{{- end }}
{{- end }}
</body>
</html>
