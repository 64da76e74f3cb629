/** Node's names for CPU architectures (`process.arch`) → OCI's, with the variant BuildKit reports. */
const NODE_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  loong64: { architecture: 'loong64' },
  mips: { architecture: 'mips' },
  mipsel: { architecture: 'mipsle' },
};

/** This machine's architecture by OCI's name, and its variant where BuildKit gives one. */
export function hostArch(nodeArch: string = process.arch): { architecture: string; variant?: string } {
  return NODE_ARCH[nodeArch] ?? { architecture: nodeArch };
}
