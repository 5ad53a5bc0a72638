// Where Journey Sync runs. Set it to your service's public URL (JOURNEY_PUBLIC_URL) and list the
// same origin under permittedUrls.fetch in ../app-hsmeta.json before `hs project upload`.
export const SERVICE_URL = 'https://journey.example.com';
