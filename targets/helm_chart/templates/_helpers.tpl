{{/* Labels every object of the application carries. */}}
{{- define "aisprint.labels" -}}
app.kubernetes.io/part-of: {{ .Values.application }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
