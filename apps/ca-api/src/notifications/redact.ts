/** Replaces e-mail addresses and Taiwan mobile numbers in a text (an error from a server) with placeholders. */
export function redactAddresses(text: string): string {
  return text
    .replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '<address>')
    .replace(/(\+?886-?9|09)\d{2}-?\d{3}-?\d{3}/g, '<mobile>');
}
