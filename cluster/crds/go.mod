// Wrapper module: pins the modules whose CRD manifests the test cluster installs.
// Nothing here is compiled; the build script copies YAML out of the verified module zips.
module sprincube-canary/cluster/crds

go 1.26.0

require istio.io/api v1.32.0
