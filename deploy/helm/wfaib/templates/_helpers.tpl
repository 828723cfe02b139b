{{- define "wfaib.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wfaib.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "wfaib.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "wfaib.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "wfaib.secretName" -}}
{{- .Values.existingSecret | default (include "wfaib.fullname" .) -}}
{{- end -}}

{{/* The environment every WFAIB container gets. */}}
{{- define "wfaib.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "wfaib.fullname" . }}
  - secretRef:
      name: {{ include "wfaib.secretName" . }}
{{- if or .Values.externalDatabase.existingSecret .Values.externalRedis.existingSecret .Values.extraEnv }}
env:
  {{- with .Values.externalDatabase.existingSecret }}
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef: {name: {{ . }}, key: {{ $.Values.externalDatabase.existingSecretKey }}}
  {{- end }}
  {{- with .Values.externalRedis.existingSecret }}
  - name: CELERY_BROKER_URL
    valueFrom:
      secretKeyRef: {name: {{ . }}, key: {{ $.Values.externalRedis.existingSecretKey }}}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every WFAIB pod. */}}
{{- define "wfaib.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "wfaib.container" -}}
image: {{ include "wfaib.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{ include "wfaib.env" . }}
{{- end -}}

{{- define "wfaib.metricsAnnotations" -}}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}
