{{/* The chart's name (nameOverride). */}}
{{- define "reconciler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/*
The objects' name: <release>-<chart> unless the release name holds the chart name. At most 52
characters: a CronJob's Jobs append 11 to it and Kubernetes names stop at 63.
*/}}
{{- define "reconciler.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "reconciler.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the reconciler's pods. */}}
{{- define "reconciler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reconciler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "reconciler.labels" -}}
helm.sh/chart: {{ include "reconciler.chart" . }}
{{ include "reconciler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: reconciler
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "reconciler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reconciler.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "reconciler.claimName" -}}
{{- default (printf "%s-state" (include "reconciler.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{- define "reconciler.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}

{{/* An env var from a key of an existing Secret: (list NAME REF). */}}
{{- define "reconciler.secretEnv" -}}
{{- $name := index . 0 -}}
{{- $ref := index . 1 -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName | quote }}
      key: {{ $ref.secretKey | quote }}
{{- end -}}

{{/*
`aisprint reconcile` arguments (the image's entrypoint is `aisprint reconcile`). The clone is
/work/deploy and the state volume /state; an option left null keeps the CLI's default and is
not passed. Rendered as a JSON list of strings.
*/}}
{{- define "reconciler.args" -}}
{{- $r := .Values.reconcile -}}
{{- $args := list "/work/deploy" "--once" -}}
{{- if not (kindIs "invalid" $r.app) -}}
{{- $app := toString $r.app -}}
{{- if not (hasPrefix "/" $app) -}}
{{- $app = clean (printf "/work/deploy/%s" $app) -}}
{{- end -}}
{{- $args = concat $args (list "--app" $app) -}}
{{- end -}}
{{- $args = concat $args (list "--state" "/state") -}}
{{- with .Values.deployRepository.prefix -}}
{{- $args = concat $args (list "--prefix" (toString .)) -}}
{{- end -}}
{{- range $r.templates -}}
{{- $args = concat $args (list "--template" (toString .)) -}}
{{- end -}}
{{- if .Values.oscar.enabled -}}
{{- $args = append $args "--oscar" -}}
{{- end -}}
{{- range $option := list "window" "for" "band" "cooldown" "tolerance" -}}
{{- if and (hasKey $r $option) (not (kindIs "invalid" (get $r $option))) -}}
{{- $args = concat $args (list (printf "--%s" $option) (toString (get $r $option))) -}}
{{- end -}}
{{- end -}}
{{- with $r.push -}}
{{- $args = concat $args (list "--push" (toString .)) -}}
{{- end -}}
{{- with $r.author -}}
{{- $args = concat $args (list "--author" (toString .)) -}}
{{- end -}}
{{- $args = concat $args (list "--output" (toString $r.output)) -}}
{{- range $r.extraArgs -}}
{{- $args = append $args (toString .) -}}
{{- end -}}
{{- toJson $args -}}
{{- end -}}
