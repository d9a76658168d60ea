{{/* Labels on every object; pass (dict "root" $ "registry" .) or (dict "root" $). */}}
{{- define "erh.labels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
app.kubernetes.io/part-of: "ecr-registry-helper"
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | quote }}
{{- with .registry }}
ecr-registry-helper/registry: {{ .name | quote }}
{{- end }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "erh.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The refresher pod of the CronJob and the immediate Job; pass (dict "root" $ "registry" .). */}}
{{- define "erh.podTemplate" -}}
{{- $root := .root -}}
{{- $v := .root.Values -}}
metadata:
  labels:
    app.kubernetes.io/name: {{ $root.Chart.Name | quote }}
    app.kubernetes.io/instance: {{ $root.Release.Name | quote }}
    ecr-registry-helper/registry: {{ .registry.name | quote }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $v.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ $v.serviceAccount.name | quote }}
  restartPolicy: Never
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: refresher
      image: {{ include "erh.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy | quote }}
      envFrom:
        - configMapRef:
            name: {{ printf "ecr-registry-helper-cm-%s" .registry.name | quote }}
        - secretRef:
            name: {{ printf "ecr-registry-helper-secrets-%s" .registry.name | quote }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities:
          drop: ["ALL"]
{{- end }}
