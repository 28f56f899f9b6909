// The stored logins as the Credentials screen and the guided flow's first step list them.
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import type { RegistryLogin } from "../bindings/RegistryLogin";

export function LoginsTable({ logins, testId }: { logins: RegistryLogin[]; testId?: string }) {
  return (
    <Table aria-label="Known logins" variant="compact" data-testid={testId}>
      <Thead>
        <Tr>
          <Th>Registry</Th>
          <Th>User</Th>
          <Th>Source</Th>
        </Tr>
      </Thead>
      <Tbody>
        {logins.map((l) => (
          <Tr key={l.registry + l.source}>
            <Td className="ferry-mono">{l.registry}</Td>
            <Td>{l.username}</Td>
            <Td>{l.source}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
