// Placeholder while issue 13 is built: replaced by the page itself.
export default function Page() {
  return (
    <section>
      <h1>Organization</h1>
    </section>
  );
}
